//! Fuzz targets for the SignalR server (see `README.md`). The checks live here so
//! that the corpus replay tests in `hub-protocol/tests` and `hub-transport/tests`
//! run exactly the code the fuzz targets run.

pub mod protocol_checks;
pub mod transport_checks;
