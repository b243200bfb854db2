//! Component variables. Values are resolved once at start-up from the
//! manifest's `[variables]` defaults and `SPIN_VARIABLE_<NAME>` environment
//! values; a component sees only the variables its manifest section declares.

use wasmtime::component::Accessor;

use super::bindings::fermyon::spin::variables as v2;
use super::bindings::spin::variables::variables as v3;
use super::{Spin, SpinCtx, SpinView};
use crate::manifest::validate_variable_name;

#[derive(Debug)]
pub enum VariableError {
    InvalidName(String),
    Undefined(String),
}

fn lookup(ctx: &SpinCtx, name: &str) -> Result<String, VariableError> {
    validate_variable_name(name).map_err(|e| VariableError::InvalidName(e.to_string()))?;
    ctx.grants.variables.get(name).cloned().ok_or_else(|| {
        VariableError::Undefined(format!(
            "no variable '{name}' for component '{}'",
            ctx.grants.component_id
        ))
    })
}

impl From<VariableError> for v3::Error {
    fn from(e: VariableError) -> Self {
        match e {
            VariableError::InvalidName(message) => v3::Error::InvalidName(message),
            VariableError::Undefined(message) => v3::Error::Undefined(message),
        }
    }
}

impl From<VariableError> for v2::Error {
    fn from(e: VariableError) -> Self {
        match e {
            VariableError::InvalidName(message) => v2::Error::InvalidName(message),
            VariableError::Undefined(message) => v2::Error::Undefined(message),
        }
    }
}

impl v3::Host for SpinView<'_> {}

impl<T> v3::HostWithStore<T> for Spin {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, v3::Error>> {
        Ok(accessor.with(|mut access| lookup(access.get().ctx, &name).map_err(Into::into)))
    }
}

impl v2::Host for SpinView<'_> {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, v2::Error>> {
        Ok(lookup(self.ctx, &name).map_err(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spin::{Backends, ComponentGrants, test_context};

    #[test]
    fn a_component_reads_only_the_variables_it_declares() {
        let grants = ComponentGrants {
            variables: BTreeMap::from([("greeting".to_string(), "hello".to_string())]),
            ..ComponentGrants::default()
        };
        let ctx = test_context(grants, Backends::default());
        assert_eq!(lookup(&ctx, "greeting").unwrap(), "hello");
        assert!(matches!(
            lookup(&ctx, "api_key"),
            Err(VariableError::Undefined(_))
        ));
        assert!(matches!(
            lookup(&ctx, "Greeting"),
            Err(VariableError::InvalidName(_))
        ));
    }
}
