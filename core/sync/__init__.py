"""Running the media-service sync jobs and keeping their ``sync_schedule`` rows."""
