package api

func (l *limiter) size() int { return l.clients.Len() }
