//! The Maltego transform protocol (XML "v2"), as maltego-trx and canari speak it: requests,
//! responses, exceptions, UI messages, local-mode arguments and configuration export.
//!
//! This module knows nothing of HTTP or of packet captures: the server and the local-mode
//! command both build a [`request::TransformRequest`] and write a [`response::Response`] or an
//! exception through [`response::write_response`] / [`response::write_exception`]. Every
//! string that reaches a document passes through [`sanitize::sanitize`], so no value can
//! make a document ill-formed. Reference: `shared/design/maltego.md`.

pub mod entity;
pub mod export;
pub mod local_args;
pub mod request;
pub mod response;
pub mod sanitize;
