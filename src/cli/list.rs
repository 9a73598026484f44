//! `packetpivot transforms`: the registry, as an analyst or a TDS admin needs it.

use clap::Args;

use super::{print_out, Failure, EXIT_OK};
use crate::transforms::TRANSFORMS;

/// Arguments of `transforms`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `transforms`.
pub fn run(args: &ListArgs) -> Result<i32, Failure> {
    let mut out = String::new();
    if args.json {
        let list: Vec<serde_json::Value> = TRANSFORMS
            .iter()
            .map(|t| {
                let m = &t.meta;
                serde_json::json!({
                    "name": m.name,
                    "display_name": m.display_name,
                    "description": m.description,
                    "input": m.input,
                    "outputs": m.outputs,
                    "settings": m.settings.iter().map(|s| serde_json::json!({
                        "name": s.name, "display_name": s.display_name, "description": s.description,
                        "type": s.kind.maltego_type(), "default": s.default, "optional": s.optional,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        out = format!(
            "{}\n",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        for t in TRANSFORMS {
            let m = &t.meta;
            out.push_str(&format!(
                "{}  ({})\n  {} -> {}\n  {}\n",
                m.name,
                m.display_name,
                m.input,
                m.outputs.join(", "),
                m.description
            ));
            for s in m.settings {
                out.push_str(&format!(
                    "  setting {} ({}, default {:?}): {}\n",
                    s.name,
                    s.kind.maltego_type(),
                    s.default,
                    s.description
                ));
            }
            out.push('\n');
        }
    }
    print_out(&out)?;
    Ok(EXIT_OK)
}
