"""Files: uploads sniffed and checked by purpose, storage backends, signed downloads."""
