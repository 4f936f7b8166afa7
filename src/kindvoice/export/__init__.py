"""Export: encoding to files (mp3, wav, flac) and the tags phones read."""
