"""Speech: engines behind one interface, a phrase cache, and parallel synthesis."""
