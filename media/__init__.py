"""Media assets: probing, validation, transcoding profiles, renditions, loudness."""
