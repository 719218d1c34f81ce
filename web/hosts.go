package web

func (s *Server) hostRoutes() {}
