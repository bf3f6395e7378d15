"""Platform-free writes of what the media services report: users, items, plays, requests, deletions."""
