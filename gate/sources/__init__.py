"""Where findings come from: exported AWS CLI JSON, a saved snapshot, or Image Builder itself."""
