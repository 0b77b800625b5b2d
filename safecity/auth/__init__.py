"""Who may do what and see which part of the city."""
