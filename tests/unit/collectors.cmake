# collector unit tests (agent/*.c parsers on fixtures)
