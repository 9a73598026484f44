//! packetpivot: split packet captures into exact sessions and pivot on them.
//!
//! Data flows one way: [`capture`] reads records and decodes headers, [`session`] assigns
//! them to sessions and writes one file per session plus `index.json`, and the edges (the
//! CLI in [`cli`]) present the results. The engine (`capture`, `session`) never imports the
//! edges.
//!
//! No code here panics on input bytes, and memory is bounded by open sessions and by the caps
//! in [`limits::Limits`], not by the size of a capture.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod cli;
pub mod config;
pub mod facts;
pub mod limits;
pub mod maltego;
pub mod server;
pub mod session;
#[path = "../transforms/mod.rs"]
pub mod transforms;
pub mod units;
