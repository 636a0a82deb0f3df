//! electsim
pub mod protocols;
pub mod sim;
