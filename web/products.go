package web

func (s *Server) productRoutes() {}
