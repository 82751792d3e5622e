//! The portable schema: UUIDs as text, UTC timestamps without zone, JSON as text.
//! Both migration folders produce exactly these tables.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kinds -> Text,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        default_payment_policy_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    payment_policies (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        fares_need_receipt -> Bool,
        travel_time_paid -> Bool,
        pay_within_days -> Integer,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_policy_rates (id) {
        id -> Text,
        policy_id -> Text,
        effective_from -> Date,
        hourly_rate_pence -> BigInt,
        mileage_rate_pence -> BigInt,
        currency -> Text,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        roles -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        version -> Integer,
    }
}

diesel::table! {
    idempotency_keys (scope, idempotency_key) {
        scope -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(payment_policies -> organisations (organisation_id));
diesel::joinable!(payment_policy_rates -> payment_policies (policy_id));
diesel::joinable!(api_clients -> organisations (organisation_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    payment_policies,
    payment_policy_rates,
    api_clients,
    idempotency_keys,
);
