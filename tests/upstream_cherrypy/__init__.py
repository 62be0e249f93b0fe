"""CherryPy's own tests run against wsgihub (a package so its conftest gets a unique module name)."""
