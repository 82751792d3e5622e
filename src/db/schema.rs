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

diesel::table! {
    opportunities (id) {
        id -> Text,
        organisation_id -> Text,
        contract_id -> Nullable<Text>,
        facilitator_organisation_id -> Nullable<Text>,
        title -> Text,
        description -> Text,
        easy_read_description -> Nullable<Text>,
        kind -> Text,
        claimed_mode -> Text,
        status -> Text,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        format -> Text,
        venue -> Nullable<Text>,
        places -> Nullable<Integer>,
        places_taken -> Integer,
        time_commitment -> Nullable<Text>,
        paid -> Bool,
        payment_policy_id -> Nullable<Text>,
        other_recognition -> Nullable<Text>,
        support_offered -> Text,
        lived_experience_areas -> Text,
        for_carers -> Bool,
        admission -> Text,
        advertised_on -> Nullable<Date>,
        closing_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        opportunity_id -> Text,
        participant_id -> Text,
        role -> Text,
        experience -> Text,
        status -> Text,
        created_at -> Timestamp,
        joined_at -> Nullable<Timestamp>,
        left_at -> Nullable<Timestamp>,
        interests_declared_at -> Nullable<Timestamp>,
        has_conflict -> Bool,
        interest_details -> Nullable<Text>,
        scoring -> Bool,
        version -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        opportunity_id -> Text,
        starts_at -> Timestamp,
        duration_minutes -> Integer,
        format -> Text,
        lived_experience_agenda_slot -> Bool,
        created_at -> Timestamp,
        present_with_experience -> Integer,
        participated_with_experience -> Integer,
        decisions_made -> Integer,
        decisions_shared -> Integer,
    }
}

diesel::table! {
    attendance_months (organisation_id, contract_id, month, participant_id) {
        organisation_id -> Text,
        contract_id -> Text,
        month -> Date,
        participant_id -> Text,
        attended -> Integer,
        lived -> Integer,
        carer -> Integer,
        participating_minutes -> BigInt,
        attending_minutes -> BigInt,
        recognised_minutes -> BigInt,
    }
}

diesel::table! {
    attendance (id) {
        id -> Text,
        session_id -> Text,
        membership_id -> Text,
        participant_id -> Text,
        minutes -> Integer,
        participation -> Text,
        recorded_at -> Timestamp,
        recognised -> Bool,
        experience -> Text,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        session_id -> Text,
        description -> Text,
        shared_with_lived_experience -> Bool,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    glossary_terms (id) {
        id -> Text,
        term -> Text,
        term_key -> Text,
        meaning -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    participants (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Nullable<Text>,
        preferred_name -> Nullable<Text>,
        roles -> Text,
        lived_experience_areas -> Text,
        involvement_kinds -> Text,
        time_available -> Nullable<Text>,
        contact_methods -> Text,
        support_needs -> Text,
        support_needs_other -> Nullable<Text>,
        payment_preference -> Nullable<Text>,
        receives_benefits -> Bool,
        weekly_payment_limit_pence -> Nullable<BigInt>,
        identity_subject -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    contact_details (participant_id, field) {
        participant_id -> Text,
        field -> Text,
        key_id -> Text,
        nonce -> Binary,
        ciphertext -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    consent_events (id) {
        id -> Text,
        participant_id -> Text,
        field -> Text,
        audience_kind -> Text,
        audience_id -> Text,
        granted -> Bool,
        method -> Text,
        recorded_by -> Text,
        recorded_by_organisation_id -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    contact_access_log (id) {
        id -> Text,
        participant_id -> Text,
        accessed_by -> Text,
        accessed_by_organisation_id -> Nullable<Text>,
        accessed_by_roles -> Text,
        fields -> Text,
        purpose -> Text,
        accessed_at -> Timestamp,
    }
}

diesel::table! {
    payment_runs (id) {
        id -> Text,
        organisation_id -> Text,
        due_by -> Date,
        claims -> Integer,
        total_pence -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    claims (id) {
        id -> Text,
        participant_id -> Text,
        organisation_id -> Text,
        opportunity_id -> Text,
        policy_id -> Text,
        status -> Text,
        total_pence -> BigInt,
        choice -> Text,
        payable_pence -> BigInt,
        currency -> Text,
        submitted_at -> Nullable<Timestamp>,
        due_on -> Nullable<Date>,
        activity_week -> Nullable<Date>,
        approved_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        payment_method -> Nullable<Text>,
        payment_reference -> Nullable<Text>,
        payment_run_id -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    claim_lines (id) {
        id -> Text,
        claim_id -> Text,
        position -> Integer,
        kind -> Text,
        activity_on -> Date,
        session_id -> Nullable<Text>,
        minutes -> Nullable<Integer>,
        miles_tenths -> Nullable<Integer>,
        description -> Nullable<Text>,
        receipt_id -> Nullable<Text>,
        rate_pence -> Nullable<BigInt>,
        amount_pence -> BigInt,
    }
}

diesel::table! {
    receipts (id) {
        id -> Text,
        claim_id -> Text,
        content_type -> Text,
        size_bytes -> Integer,
        sha256 -> Text,
        content -> Binary,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    claim_events (id) {
        id -> Text,
        claim_id -> Text,
        action -> Text,
        actor -> Text,
        detail -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    bank_details (participant_id) {
        participant_id -> Text,
        key_id -> Text,
        nonce -> Binary,
        ciphertext -> Binary,
        last_four -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    recognitions (id) {
        id -> Text,
        participant_id -> Text,
        opportunity_id -> Text,
        kind -> Text,
        description -> Text,
        value_pence -> Nullable<BigInt>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    feedback_items (id) {
        id -> Text,
        organisation_id -> Text,
        opportunity_id -> Nullable<Text>,
        participant_id -> Nullable<Text>,
        said -> Text,
        channel -> Text,
        themes -> Text,
        received_at -> Timestamp,
        outcome -> Nullable<Text>,
        we_did -> Nullable<Text>,
        responded_by -> Nullable<Text>,
        responded_at -> Nullable<Timestamp>,
        communicated_how -> Nullable<Text>,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        recorded_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        organisation_id -> Text,
        opportunity_id -> Nullable<Text>,
        participant_id -> Nullable<Text>,
        empathy -> Integer,
        inclusion -> Integer,
        honesty -> Integer,
        working_together -> Integer,
        personalisation -> Integer,
        comment -> Nullable<Text>,
        evaluated_at -> Timestamp,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    self_assessments (id) {
        id -> Text,
        organisation_id -> Text,
        period_from -> Date,
        period_to -> Date,
        current_level -> Text,
        staff_knowledge -> Integer,
        staff_confidence -> Integer,
        staff_notes -> Nullable<Text>,
        opportunities_completed -> Integer,
        successes -> Nullable<Text>,
        barriers -> Text,
        barriers_other -> Nullable<Text>,
        commitment -> Integer,
        prepared_to_pay -> Text,
        facilitators -> Nullable<Text>,
        cultural_attitudes -> Nullable<Text>,
        target_level -> Text,
        submitted_by -> Text,
        submitted_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        event_type -> Text,
        organisation_id -> Text,
        facilitator_organisation_id -> Nullable<Text>,
        opportunity_id -> Nullable<Text>,
        participant_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        secret_key_id -> Text,
        secret_nonce -> Binary,
        secret_ciphertext -> Binary,
        previous_secret_key_id -> Nullable<Text>,
        previous_secret_nonce -> Nullable<Binary>,
        previous_secret_ciphertext -> Nullable<Binary>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        secret_generation -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        succeeded -> Bool,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        commissioner_id -> Text,
        provider_id -> Text,
        title -> Text,
        starts_on -> Date,
        ends_on -> Date,
        requirements -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
    }
}

diesel::joinable!(memberships -> opportunities (opportunity_id));
diesel::joinable!(claim_lines -> claims (claim_id));
diesel::joinable!(memberships -> participants (participant_id));
diesel::joinable!(contact_details -> participants (participant_id));
diesel::joinable!(consent_events -> participants (participant_id));
diesel::joinable!(sessions -> opportunities (opportunity_id));
diesel::joinable!(attendance -> sessions (session_id));
diesel::joinable!(attendance -> memberships (membership_id));
diesel::joinable!(decisions -> sessions (session_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    payment_policies,
    payment_policy_rates,
    api_clients,
    idempotency_keys,
    opportunities,
    memberships,
    sessions,
    attendance,
    attendance_months,
    decisions,
    glossary_terms,
    participants,
    contact_details,
    consent_events,
    contact_access_log,
    payment_runs,
    claims,
    claim_lines,
    receipts,
    claim_events,
    bank_details,
    recognitions,
    feedback_items,
    evaluations,
    self_assessments,
    events,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    contracts,
);
