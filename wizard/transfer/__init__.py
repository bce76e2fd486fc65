"""Moving a sandbox's configuration: export it to one JSON file, import that file into a sandbox."""
