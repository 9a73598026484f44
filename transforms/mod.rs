//! The transforms: one file each, metadata beside the handler, registered in [`TRANSFORMS`].
//!
//! A transform reads a [`TransformRequest`] and returns a [`Response`]; it never knows
//! whether HTTP or local mode called it. Captures are split through the shared
//! [`store::CaptureStore`], which confines paths to the configured roots, runs one split per
//! capture however many requests ask for it, and answers a finished capture from its index.

pub mod entities;
pub mod pivot;
pub mod store;

mod capture_to_certificates;
mod capture_to_dns_names;
mod capture_to_fingerprints;
mod capture_to_http_hosts;
mod capture_to_info;
mod capture_to_ips;
mod capture_to_macs;
mod capture_to_services;
mod capture_to_sessions;
mod capture_to_tls_names;
mod capture_to_urls;
mod dns_name_to_addresses;
mod dns_name_to_clients;
mod dns_name_to_sessions;
mod ip_to_dns_names;
mod ip_to_macs;
mod ip_to_sessions;
mod mac_to_ips;
mod mac_to_vendor;
mod port_to_sessions;
mod session_to_facts;
mod session_to_ips;
mod session_to_pcap;
mod session_to_ports;

use crate::maltego::request::TransformRequest;
use crate::maltego::response::Response;
use store::{CaptureStore, StoreError};

/// The kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// Free text.
    Text,
    /// A whole number.
    Integer,
    /// true / false.
    Boolean,
}

impl SettingKind {
    /// The type name Maltego's configuration files use.
    pub fn maltego_type(self) -> &'static str {
        match self {
            SettingKind::Text => "string",
            SettingKind::Integer => "int",
            SettingKind::Boolean => "boolean",
        }
    }
}

/// A transform setting (a `TransformField` of the request).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The field name in requests.
    pub name: &'static str,
    /// What the analyst sees.
    pub display_name: &'static str,
    /// One sentence on what it does.
    pub description: &'static str,
    /// Its type.
    pub kind: SettingKind,
    /// Its default, as text.
    pub default: &'static str,
    /// May be left empty.
    pub optional: bool,
    /// Maltego asks for it before running.
    pub popup: bool,
}

/// Everything Maltego needs to know about a transform.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Route and registry name: lowercase, `-` separated (`capture-to-sessions`).
    pub name: &'static str,
    /// The name in Maltego's transform menu.
    pub display_name: &'static str,
    /// What it does, for the transform hub and `packetpivot transforms`.
    pub description: &'static str,
    /// The input entity type.
    pub input: &'static str,
    /// Entity types it returns.
    pub outputs: &'static [&'static str],
    /// Its settings.
    pub settings: &'static [Setting],
}

/// What a transform gets to work with.
pub struct Context<'a> {
    /// The request.
    pub request: &'a TransformRequest,
    /// Captures and where their sessions live.
    pub store: &'a CaptureStore,
}

impl Context<'_> {
    /// A setting's value: the request's transform field, else the setting's default.
    pub fn setting(&self, s: &Setting) -> String {
        self.request
            .setting(s.name)
            .map(str::to_string)
            .unwrap_or_else(|| s.default.to_string())
    }

    /// An integer setting; a value that is not a number is an error naming the setting.
    pub fn integer_setting(&self, s: &Setting) -> Result<u64, TransformError> {
        let v = self.setting(s);
        let v = v.trim();
        if v.is_empty() {
            return Ok(0);
        }
        v.parse().map_err(|_| {
            TransformError::BadSetting(format!("{} must be a whole number, not {v:?}", s.name))
        })
    }
}

/// Why a transform could not answer: the text becomes the Maltego exception message.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The input entity is not one the transform accepts.
    #[error("{transform} takes a {expected} entity, not {got}")]
    WrongInput {
        /// The transform.
        transform: &'static str,
        /// Its input type.
        expected: &'static str,
        /// What came.
        got: String,
    },
    /// A setting has a bad value.
    #[error("{0}")]
    BadSetting(String),
    /// The entity lacks a value or field the transform needs.
    #[error("{0}")]
    MissingInput(String),
    /// The capture could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One registered transform.
pub struct Transform {
    /// Its metadata.
    pub meta: Meta,
    /// Its handler.
    pub run: fn(&Context<'_>) -> Result<Response, TransformError>,
}

/// Every transform, in the order `packetpivot transforms` and the exports list them.
pub static TRANSFORMS: &[&Transform] = &[
    &capture_to_sessions::TRANSFORM,
    &capture_to_info::TRANSFORM,
    &session_to_ips::TRANSFORM,
    &session_to_ports::TRANSFORM,
    &session_to_pcap::TRANSFORM,
    &session_to_facts::TRANSFORM,
    &capture_to_ips::TRANSFORM,
    &capture_to_macs::TRANSFORM,
    &capture_to_dns_names::TRANSFORM,
    &capture_to_http_hosts::TRANSFORM,
    &capture_to_urls::TRANSFORM,
    &capture_to_tls_names::TRANSFORM,
    &capture_to_fingerprints::TRANSFORM,
    &capture_to_certificates::TRANSFORM,
    &capture_to_services::TRANSFORM,
    &ip_to_sessions::TRANSFORM,
    &ip_to_macs::TRANSFORM,
    &ip_to_dns_names::TRANSFORM,
    &mac_to_ips::TRANSFORM,
    &mac_to_vendor::TRANSFORM,
    &dns_name_to_sessions::TRANSFORM,
    &dns_name_to_clients::TRANSFORM,
    &dns_name_to_addresses::TRANSFORM,
    &port_to_sessions::TRANSFORM,
];

/// The registry as the configuration export sees it.
pub fn project() -> crate::maltego::export::Project<'static> {
    use crate::maltego::export::{Project, SettingSpec, TransformSpec};
    Project {
        id_prefix: "packetpivot",
        owner: "packetpivot",
        author: "packetpivot",
        version: env!("CARGO_PKG_VERSION"),
        display_name_suffix: "",
        seed_ids: &[],
        global_settings: Vec::new(),
        set_name: "packetpivot",
        set_description: "Split packet captures into sessions and pivot on them",
        transforms: TRANSFORMS
            .iter()
            .map(|t| {
                let m = &t.meta;
                TransformSpec {
                    name: m.name,
                    display_name: m.display_name,
                    description: m.description,
                    disclaimer: "",
                    input: m.input,
                    outputs: m.outputs,
                    settings: m
                        .settings
                        .iter()
                        .map(|s| SettingSpec {
                            name: s.name,
                            display_name: s.display_name,
                            description: s.description,
                            kind: s.kind.maltego_type(),
                            default: s.default,
                            optional: s.optional,
                            popup: s.popup,
                        })
                        .collect(),
                }
            })
            .collect(),
        entities: entities::entity_specs(),
    }
}

/// Finds a transform by route name, ignoring case and a trailing `/`.
pub fn find(name: &str) -> Option<&'static Transform> {
    let name = name.trim_end_matches('/');
    TRANSFORMS
        .iter()
        .copied()
        .find(|t| t.meta.name.eq_ignore_ascii_case(name))
}

/// Names close to a mistyped one (shared prefix or small edit distance), for error messages.
pub fn suggestions(name: &str) -> Vec<&'static str> {
    let lower = name.to_ascii_lowercase();
    TRANSFORMS
        .iter()
        .map(|t| t.meta.name)
        .filter(|n| {
            edit_distance(n, &lower) <= 3
                || n.contains(&lower)
                || (lower.len() > 3 && lower.contains(n))
        })
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The capture path a capture transform works on: the value of a capture entity, else the
/// entity's `path` or `source` field, else its value.
pub fn capture_path(request: &TransformRequest) -> Result<String, TransformError> {
    let from_field = if request.has_type(crate::maltego::entity::CAPTURE) {
        None
    } else {
        [
            "path",
            "source",
            "file.path",
            "source.path",
            "pcap.path",
            "capture.path",
        ]
        .iter()
        .find_map(|f| request.field(f).filter(|v| !v.trim().is_empty()))
    };
    let path = from_field.unwrap_or(&request.value).trim();
    if path.is_empty() {
        return Err(TransformError::MissingInput(
            "the entity names no capture: give the capture's path as its value (or a path/source field)".into(),
        ));
    }
    Ok(path.to_string())
}

/// Checks the input entity type: the declared input, any type in the request's genealogy,
/// or (for the capture transforms) any entity that carries a path.
pub fn check_input(
    meta: &Meta,
    request: &TransformRequest,
    also: &[&str],
) -> Result<(), TransformError> {
    if meta.input == crate::maltego::entity::UNKNOWN
        || request.has_type(meta.input)
        || also.iter().any(|t| request.has_type(t))
    {
        return Ok(());
    }
    Err(TransformError::WrongInput {
        transform: meta.name,
        expected: meta.input,
        got: request.entity_type.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_unique_lowercase_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for t in TRANSFORMS {
            let m = &t.meta;
            assert!(seen.insert(m.name), "duplicate {}", m.name);
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.name
            );
            assert!(
                !m.display_name.is_empty() && m.description.len() > 20,
                "{}",
                m.name
            );
            assert!(m.input.contains('.') && !m.outputs.is_empty(), "{}", m.name);
            for s in m.settings {
                assert!(!s.name.is_empty() && !s.description.is_empty());
            }
        }
    }

    #[test]
    fn finds_names_case_insensitively_and_suggests() {
        assert!(find("Capture-To-Sessions/").is_some());
        assert!(find("nosuch").is_none());
        assert_eq!(
            suggestions("capture-to-session"),
            vec!["capture-to-sessions"]
        );
    }
}
