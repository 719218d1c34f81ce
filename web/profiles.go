package web

func (s *Server) profileRoutes() {}
