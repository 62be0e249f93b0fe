"""A second Django project: it may not share a process with djsite_legacy."""
