//! `#[derive(WriteFields)]`: a GraphQL object (an `async_graphql::SimpleObject`) that writes
//! its plain fields straight into a written answer as JSON.
//!
//! The derive reads the same `#[graphql(...)]` attributes `SimpleObject` reads, so each field
//! is still written once: a field is answered under its GraphQL name (its own name in
//! camelCase, or `name = "…"`); `skip` leaves it out; `derived(name, into, with, owned)`
//! answers the conversion `SimpleObject` answers. It generates
//! `WriteFields::write_field(&self, name, out) -> bool`, which writes the named field's value
//! and says whether it did, and `WriteFields::written_fields()`, the names it writes. It
//! declines (returns `false`, and the resolver answers) for a field whose type has no JSON
//! writer (an object), and for one with any other attribute (a guard, a visibility rule, a
//! resolver of its own), which only the resolver can answer rightly.
//!
//! `#[written(object)]` on a field (skipped by `SimpleObject`, answered by the door as a plain
//! copy of the field's value) generates `WriteFields::field_object`, which hands that value to
//! a written answer to write in place; the field's GraphQL name is its own in camelCase.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

#[proc_macro_derive(WriteFields, attributes(written))]
pub fn derive_write_fields(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// What `#[graphql(...)]` says of one field.
#[derive(Default)]
struct FieldAttrs {
    skip: bool,
    name: Option<String>,
    derived: Option<Derived>,
    /// Anything else (a guard, `visible`, …): the resolver answers the field.
    other: bool,
}

struct Derived {
    name: Option<String>,
    into: Option<syn::Type>,
    with: Option<syn::Path>,
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "WriteFields derives only for structs",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "WriteFields derives only for structs with named fields",
        ));
    };
    refuse_renamed_fields(input)?;
    let mut arms = Vec::new();
    let mut objects = Vec::new();
    let mut probes = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let attrs = field_attrs(field)?;
        if attrs.other {
            continue;
        }
        let own = ident.to_string();
        let own = own.strip_prefix("r#").unwrap_or(&own);
        if written_object(field)? {
            let name = camel_case(own);
            objects.push(quote! {
                #name => ::core::option::Option::Some(&self.#ident),
            });
        }
        if !attrs.skip {
            let name = attrs.name.clone().unwrap_or_else(|| camel_case(own));
            arms.push(quote! {
                #name => (&Leaf(&self.#ident)).write_leaf_or_decline(out),
            });
            let ty = &field.ty;
            probes.push(quote! { (#name, (&Probe::<#ty>::new()).is_leaf()) });
        }
        if let Some(derived) = &attrs.derived {
            let Some(name) = &derived.name else { continue };
            let name = camel_case(name);
            let value = match (&derived.with, &derived.into) {
                (Some(with), _) => quote! { #with(::core::clone::Clone::clone(&self.#ident)) },
                (None, Some(into)) => quote! {
                    <#into as ::core::convert::From<_>>::from(::core::clone::Clone::clone(&self.#ident))
                },
                (None, None) => quote! { ::core::clone::Clone::clone(&self.#ident) },
            };
            // A leaf written from the field as it stands (`WriteFrom`) needs no copy of it.
            let from_field = match (&derived.with, &derived.into) {
                (None, Some(into)) => quote! {
                    (&DerivedFrom::<#into, _>(&self.#ident, ::core::marker::PhantomData))
                        .write_from_field(out) ||
                },
                _ => quote! {},
            };
            arms.push(quote! {
                #name => #from_field (&Leaf(&#value)).write_leaf_or_decline(out),
            });
            let ty = derived.into.as_ref().unwrap_or(&field.ty);
            probes.push(quote! { (#name, (&Probe::<#ty>::new()).is_leaf()) });
        }
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics crate::domain::written::WriteFields for #ident #type_generics #where_clause {
            fn written_fields() -> ::std::vec::Vec<&'static str> {
                #[allow(unused_imports)]
                use crate::domain::written::{Probe, IsLeaf as _, IsNotLeaf as _};
                [#(#probes),*]
                    .into_iter()
                    .filter_map(|(name, leaf)| leaf.then_some(name))
                    .collect()
            }

            fn write_field(&self, name: &str, out: &mut ::std::vec::Vec<u8>) -> bool {
                #[allow(unused_imports)]
                use crate::domain::written::{
                    DerivedFrom, Leaf, Declines as _, NotWrittenFrom as _, Writes as _,
                    WritesFrom as _,
                };
                match name {
                    #(#arms)*
                    _ => false,
                }
            }

            fn field_object(
                &self,
                name: &str,
            ) -> ::core::option::Option<&dyn crate::domain::written::WriteFields> {
                match name {
                    #(#objects)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

/// `rename_fields` changes every name; it is not needed here, so it is refused rather than
/// followed.
fn refuse_renamed_fields(input: &DeriveInput) -> syn::Result<()> {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("graphql")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_fields") {
                return Err(meta.error("WriteFields does not follow rename_fields"));
            }
            skip_value(&meta)
        })?;
    }
    Ok(())
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut attrs = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("graphql")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") || meta.path.is_ident("skip_output") {
                attrs.skip = true;
                Ok(())
            } else if meta.path.is_ident("name") {
                attrs.name = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("derived") {
                let mut derived = Derived {
                    name: None,
                    into: None,
                    with: None,
                };
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("name") {
                        derived.name = Some(inner.value()?.parse::<LitStr>()?.value());
                    } else if inner.path.is_ident("into") {
                        derived.into = Some(inner.value()?.parse::<LitStr>()?.parse()?);
                    } else if inner.path.is_ident("with") {
                        derived.with = Some(inner.value()?.parse::<LitStr>()?.parse()?);
                    } else if inner.path.is_ident("owned") {
                    } else {
                        return Err(inner.error("WriteFields does not know this part of derived"));
                    }
                    Ok(())
                })?;
                attrs.derived = Some(derived);
                Ok(())
            } else if meta.path.is_ident("desc") || meta.path.is_ident("deprecation") {
                skip_value(&meta)
            } else {
                attrs.other = true;
                skip_value(&meta)
            }
        })?;
    }
    Ok(attrs)
}

/// Whether the field carries `#[written(object)]` (the only form the attribute takes).
fn written_object(field: &syn::Field) -> syn::Result<bool> {
    let mut object = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("written")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("object") {
                object = true;
                Ok(())
            } else {
                Err(meta.error("WriteFields knows only #[written(object)]"))
            }
        })?;
    }
    Ok(object)
}

/// Reads past an attribute's value (`= …` or `(…)`), which is not ours to interpret.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<Tokens>()?;
    }
    Ok(())
}

/// A Rust field's name as async-graphql names it by default (`created_at` → `createdAt`).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.trim_start_matches('_').chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn names_are_async_graphqls_camel_case() {
        for (rust, graphql) in [
            ("id", "id"),
            ("created_at", "createdAt"),
            ("shared_with_lived_experience", "sharedWithLivedExperience"),
            ("duration_ms", "durationMs"),
            ("line_1", "line1"),
        ] {
            assert_eq!(camel_case(rust), graphql);
        }
    }
}
