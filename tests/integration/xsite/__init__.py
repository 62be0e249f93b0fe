"""Four apps, one per framework, each able to build URLs into the others."""
