//! Any bytes as a JSON body of `PUT /policy`: parsed, or a 400/422 problem.
#![no_main]

use credit_core::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match api::input::parse_json::<Policy>(body) {
        Ok(policy) => {
            let again: Policy = serde_json_roundtrip(&policy);
            assert_eq!(again, policy);
        }
        Err(problem) => assert!(problem.status == 400 || problem.status == 422),
    }
});

fn serde_json_roundtrip(policy: &Policy) -> Policy {
    let text = api::Reply::ok(policy).body;
    api::input::parse_json(&text).expect("a policy written out reads back")
}
