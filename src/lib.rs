//! electsim
pub mod cli;
pub mod explore;
pub mod fsutil;
pub mod protocols;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
