"""The demo: fixture sites of an origin publisher and three autoblogs, served on 127.0.0.1."""
