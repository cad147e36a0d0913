"""What the operator commands of `estatedesk` do beyond parsing: the monthly export, the
doctor's checks and a case's trace."""
