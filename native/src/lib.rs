#[cfg(feature = "napi")]
#[macro_use]
extern crate napi_derive;

#[cfg(feature = "napi")]
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn links() {
        assert_eq!(2 + 2, 4);
    }
}
