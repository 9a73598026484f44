//! Maltego configuration export (`shared/design/maltego.md` section 10): the TDS import CSVs
//! ([`tds::transforms_csv`], [`tds::settings_csv`]) and `.mtz` archives ([`mtz::write_mtz`]
//! for local transforms with their entities, [`mtz::write_entities_mtz`] for the entities
//! alone, to pair with a TDS seed).
//!
//! This module is protocol-only: it takes the neutral descriptions below, not the transform
//! registry, so whoever owns the registry maps it onto a [`Project`].
//!
//! # Names and ids
//!
//! * TDS (`transforms.csv`): `Name` is the **route name** (`capture-to-sessions`) and the URL
//!   `base_url + "/run/" + name`, as maltego-trx writes them (10.1).
//! * `.mtz`: a transform's id (`name` attribute, file names, `Local.tas`, `.set`) is
//!   [`Project::transform_id`]: `<id_prefix>.<route name>` (`packetpivot.capture-to-sessions`),
//!   the namespaced form canari and netcap use, so local transforms cannot collide with other
//!   local transforms or with the TDS ones (bare route names). An empty `id_prefix` gives the
//!   bare route name, trx's form (the tests use that to compare bytes with trx's archive). The
//!   route name itself travels in `transform.local.parameters`: Maltego runs
//!   `<command> <args_prefix…> <route name> <value> <properties>` (section 9.1).
//! * Entity ids are used as given (`packetpivot.Capture`); entity categories name
//!   `EntityCategories/<category>.category`; icons live in `Icons/<category>/<id with '_'
//!   for '.'>*.png` and the entity's icon resource is `<category>/<id with '_' for '.'>`.
//!   Path components keep `[A-Za-z0-9._-]` and replace anything else with `_`.

use thiserror::Error;

pub mod mtz;
mod png;
pub mod tds;
mod xml;

pub use mtz::{mtz_entries, mtz_entries_at, write_entities_mtz, write_mtz};
pub use tds::{settings_csv, transforms_csv};

/// A transform setting (TDS `settings.csv`; section 10.5). Local transforms get no settings
/// (9.2), so the `.mtz` ignores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingSpec<'a> {
    /// Setting id as it arrives in `TransformFields` (`packetpivot.output_dir`). Global
    /// settings ([`Project::global_settings`]) are written as `global#<name>`.
    pub name: &'a str,
    /// Shown in the client.
    pub display_name: &'a str,
    /// Not part of trx's `settings.csv`; kept for documentation and future formats.
    pub description: &'a str,
    /// TDS type: `string`, `boolean`, `date`, `datetime`, `daterange`, `url`, `double`, `int`.
    pub kind: &'a str,
    /// Default value (the TDS ignores it for popup settings).
    pub default: &'a str,
    /// `Optional` column: `True`/`False`.
    pub optional: bool,
    /// `Popup` column: `Yes`/`No`.
    pub popup: bool,
}

/// One transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformSpec<'a> {
    /// Route name (`capture-to-sessions`): TDS `Name`, URL path, and the argument after
    /// [`LocalCommand::args_prefix`] in local mode.
    pub name: &'a str,
    /// Display name without suffix (`To Sessions`); the TDS `UIName` appends
    /// [`Project::display_name_suffix`]. Empty: the route name is used.
    pub display_name: &'a str,
    /// Description.
    pub description: &'a str,
    /// TDS `Disclaimer` (may be empty).
    pub disclaimer: &'a str,
    /// Input entity type (`packetpivot.Capture`).
    pub input: &'a str,
    /// Output entity types (TDS `outputEntities`).
    pub outputs: &'a [&'a str],
    /// The transform's own settings, in order.
    pub settings: Vec<SettingSpec<'a>>,
}

/// An entity property (a `<Field>` of the entity definition, 10.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySpec<'a> {
    /// Property name (`capture.path`).
    pub name: &'a str,
    /// Shown in the client.
    pub display_name: &'a str,
    /// Field type: `string`, `int`, `double`, `boolean`, `date`, …
    pub kind: &'a str,
    /// `<SampleValue>` (what a new entity dragged from the palette starts with); empty: none.
    pub sample: &'a str,
}

/// A custom entity type (section 10.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySpec<'a> {
    /// Type id (`packetpivot.Capture`).
    pub id: &'a str,
    /// Singular display name.
    pub display_name: &'a str,
    /// Plural display name.
    pub plural: &'a str,
    /// Description.
    pub description: &'a str,
    /// Palette category (`packetpivot`).
    pub category: &'a str,
    /// Parent types (`maltego.File`), written as `<BaseEntities>`.
    pub base_entities: &'a [&'a str],
    /// The value (and display value) property.
    pub value_property: PropertySpec<'a>,
    /// Further properties (one with the value property's name is skipped).
    pub properties: Vec<PropertySpec<'a>>,
    /// A PNG icon, written for every icon size; empty (or not a PNG): a generated
    /// placeholder disc at 16, 24, 32, 48 and 96 pixels.
    pub icon_png: &'a [u8],
}

/// Everything the export describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project<'a> {
    /// Namespace of the `.mtz` transform ids (`packetpivot`); empty: bare route names.
    pub id_prefix: &'a str,
    /// TDS `Owner`.
    pub owner: &'a str,
    /// TDS `Author` and the `.transform` `author` attribute.
    pub author: &'a str,
    /// TDS `Version`.
    pub version: &'a str,
    /// Appended to display names in the TDS `UIName` (`" [packetpivot]"`).
    pub display_name_suffix: &'a str,
    /// TDS `seedIDs`.
    pub seed_ids: &'a [&'a str],
    /// Settings every transform gets, written as `global#<name>` (API keys).
    pub global_settings: Vec<SettingSpec<'a>>,
    /// Transform set (`TransformSets/<set_name>.set`); empty: no set is written.
    pub set_name: &'a str,
    /// The set's description.
    pub set_description: &'a str,
    /// Transforms, in order.
    pub transforms: Vec<TransformSpec<'a>>,
    /// Custom entity types, in order.
    pub entities: Vec<EntitySpec<'a>>,
}

impl Project<'_> {
    /// The transform's id inside an `.mtz`: `<id_prefix>.<route name>`, or the route name
    /// alone when `id_prefix` is empty.
    pub fn transform_id(&self, transform: &TransformSpec<'_>) -> String {
        if self.id_prefix.is_empty() {
            transform.name.to_string()
        } else {
            format!("{}.{}", self.id_prefix, transform.name)
        }
    }
}

/// How Maltego starts a local transform (section 9.1). The client runs
/// `command` with `transform.local.parameters` = `args_prefix` joined by spaces, then the
/// route name; it appends the entity value and the `k=v#…` properties. The parameters string is
/// split on spaces by the client (inferred, section 9.1), so arguments must not contain spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCommand<'a> {
    /// Absolute path of the packetpivot binary.
    pub command: &'a str,
    /// Fixed arguments before the route name, normally `["local"]` (options such as
    /// `--limit 500` go here too).
    pub args_prefix: &'a [&'a str],
    /// `transform.local.working-directory`.
    pub working_dir: &'a str,
    /// `transform.local.debug`: show the program's text output in the Output window.
    pub debug: bool,
}

impl LocalCommand<'_> {
    /// `transform.local.parameters` for one route name: `<args_prefix…> <route name>`.
    pub fn parameters(&self, route_name: &str) -> String {
        let mut parts: Vec<&str> = self
            .args_prefix
            .iter()
            .copied()
            .filter(|a| !a.is_empty())
            .collect();
        parts.push(route_name);
        parts.join(" ")
    }
}

/// Why an archive could not be written.
#[derive(Debug, Error)]
pub enum ExportError {
    /// Two entries got the same path (duplicate ids, or ids equal after path sanitising).
    #[error("two .mtz entries would have the same path {0:?} (duplicate id?)")]
    DuplicateEntry(String),
    /// The ZIP writer failed.
    #[error("writing the .mtz archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing an entry's bytes failed.
    #[error("writing the .mtz archive: {0}")]
    Io(#[from] std::io::Error),
}

/// A path component for a ZIP entry: `[A-Za-z0-9._-]` kept, anything else `_`; never empty,
/// never `.` or `..`.
pub(crate) fn path_component(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out.replace('.', "_") + "_"
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_safe_path_components() {
        assert_eq!(path_component("packetpivot.Capture"), "packetpivot.Capture");
        assert_eq!(path_component("a/b\\c d"), "a_b_c_d");
        assert_eq!(path_component(""), "_");
        assert_eq!(path_component(".."), "___");
        assert_eq!(path_component("é"), "_");
    }

    #[test]
    fn writes_parameters_and_ids() {
        let local = LocalCommand {
            command: "/usr/bin/packetpivot",
            args_prefix: &["local", "", "--limit", "500"],
            working_dir: "/",
            debug: false,
        };
        assert_eq!(
            local.parameters("capture-to-sessions"),
            "local --limit 500 capture-to-sessions"
        );
        let t = TransformSpec {
            name: "x",
            display_name: "",
            description: "",
            disclaimer: "",
            input: "maltego.Phrase",
            outputs: &[],
            settings: vec![],
        };
        let mut p = Project {
            id_prefix: "packetpivot",
            owner: "",
            author: "",
            version: "",
            display_name_suffix: "",
            seed_ids: &[],
            global_settings: vec![],
            set_name: "",
            set_description: "",
            transforms: vec![],
            entities: vec![],
        };
        assert_eq!(p.transform_id(&t), "packetpivot.x");
        p.id_prefix = "";
        assert_eq!(p.transform_id(&t), "x");
    }
}
