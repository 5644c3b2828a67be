"""The common library of the points platform: settings, database, events, bus, auth, logging."""
