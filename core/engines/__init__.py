"""Answer engines: turn a question into an answer through the tool catalogue."""
