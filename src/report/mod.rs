//! Everything that turns outcomes into files and text.

pub mod charts;
pub mod compare;
pub mod export;
pub mod font;
pub mod growth;
pub mod matrix;
pub mod page;
pub mod pivot;
pub mod production;
pub mod run;
pub mod timeline;
pub mod trace;
