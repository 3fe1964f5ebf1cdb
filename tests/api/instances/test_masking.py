from apps.instances.masking import MASK, mask_variables


def test_secret_names_are_masked_at_any_depth_and_others_are_not(settings):
    settings.BATON_SECRET_PATTERN = "password|token|secret|authorization"
    masked = mask_variables({
        "user": "kermit", "password": "hunter2", "API_TOKEN": "abc",
        "request": {"headers": {"Authorization": "Bearer x", "Accept": "json"}, "items": [{"client_secret": "s"}]},
    })
    assert masked == {
        "user": "kermit", "password": MASK, "API_TOKEN": MASK,
        "request": {"headers": {"Authorization": MASK, "Accept": "json"}, "items": [{"client_secret": MASK}]},
    }
