"""The operator console: server-rendered pages over the intake and analytics HTTP APIs."""
