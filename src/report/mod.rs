//! Everything that turns outcomes into files and text.

pub mod font;
pub mod run;
pub mod charts;
pub mod matrix;
