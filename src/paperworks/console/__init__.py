"""The web console at `/`: the pages people use the products through, served by the same process
as the API and calling the same services (no second implementation of any rule)."""
