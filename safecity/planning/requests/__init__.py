"""Camera installation requests from district akimats and the police."""
