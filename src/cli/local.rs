//! `packetpivot local <transform> <value> [props]`: a Maltego local transform.
//!
//! Maltego Desktop runs the command with the entity value and its properties
//! (`prop=val#prop2=val2`) and reads one Maltego message from stdout, so stdout carries that
//! message and nothing else (UTF-8); logs go to stderr; the exit status is 0 even for errors,
//! which are reported as an exception message Maltego shows to the analyst.

use std::path::PathBuf;

use clap::Args;

use super::{Failure, EXIT_OK};
use crate::config;
use crate::maltego::local_args::{local_request, LOCAL_DEFAULT_LIMIT};
use crate::maltego::response::{exception_to_string, response_to_string};
use crate::session::splitter::SplitOptions;
use crate::transforms::store::CaptureStore;
use crate::transforms::{self, Context};

/// Arguments of `local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Where session files are written (default: the per-user data directory).
    #[arg(long, env = "PACKETPIVOT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Most entities to return (Maltego passes no result limit to local transforms).
    #[arg(long, default_value_t = LOCAL_DEFAULT_LIMIT, value_name = "N")]
    pub limit: u32,
    /// The transform's name (`packetpivot transforms` lists them).
    pub transform: String,
    /// The entity value and properties, as Maltego passes them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Runs `local`: always prints one message and exits 0.
pub fn run(args: &LocalArgs) -> Result<i32, Failure> {
    let message = answer(args);
    super::print_out(&message)?;
    Ok(EXIT_OK)
}

fn answer(args: &LocalArgs) -> String {
    let Some(transform) = transforms::find(&args.transform) else {
        let hint = transforms::suggestions(&args.transform);
        let text = if hint.is_empty() {
            format!("No transform found with the name '{}'.", args.transform)
        } else {
            format!(
                "No transform found with the name '{}'. Did you mean {}?",
                args.transform,
                hint.join(" or ")
            )
        };
        return exception_to_string(&text, None);
    };
    let (request, warnings) = match local_request(transform.meta.input, &args.args, args.limit) {
        Ok(v) => v,
        Err(e) => {
            return exception_to_string(
                &format!("cannot read the arguments Maltego passed: {e}"),
                None,
            )
        }
    };
    for w in warnings {
        tracing::warn!("{w}");
    }
    let value = request.value.clone();
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(config::default_data_dir);
    let store = match config::store_config(&[], &data_dir, None, SplitOptions::default()) {
        Ok(s) => CaptureStore::new(s),
        Err(e) => return exception_to_string(&e, None),
    };
    let ctx = Context {
        request: &request,
        store: &store,
    };
    tracing::info!(transform = transform.meta.name, value = %value, "local transform");
    match (transform.run)(&ctx) {
        Ok(r) => response_to_string(&r),
        Err(e) => exception_to_string(&e.to_string(), None),
    }
}
