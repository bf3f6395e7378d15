"""The Model Context Protocol adapter: Marquee's scoped tool catalogue for assistants on the host."""
