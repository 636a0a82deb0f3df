//! electsim
pub mod cli;
pub mod fsutil;
pub mod protocols;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod sweep;
