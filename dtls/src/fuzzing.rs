//! Entry points for the cargo-fuzz targets (see ../fuzz). Not a public API.
