"""Provenance HTTP shapes: the verification result, its parts, and the upload."""

from django.urls import reverse
from rest_framework import serializers

from core.serializers import StrictSerializer
from provenance.lineage import RECORD_KIND_CHOICES


class VerifyUploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="The image exactly as you have it (PNG, JPEG or WEBP).")


class RecordSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.ChoiceField(choices=RECORD_KIND_CHOICES, read_only=True)
    content_sha256 = serializers.CharField()
    pdq = serializers.CharField()
    pdq_quality = serializers.IntegerField()
    subject = serializers.CharField()
    creator = serializers.CharField()
    owner = serializers.CharField()
    state = serializers.CharField()
    registered_at = serializers.DateTimeField(source="created_at")
    anchored_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    certificate_url = serializers.SerializerMethodField()

    def get_certificate_url(self, record) -> str:
        return reverse("provenance-certificate", kwargs={"public_id": record.public_id})


class AnchorSerializer(serializers.Serializer):
    chain_id = serializers.IntegerField()
    registry_address = serializers.CharField()
    root = serializers.CharField()
    leaf = serializers.CharField()
    leaf_index = serializers.IntegerField()
    leaf_count = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField())
    transaction_hash = serializers.CharField()
    block_number = serializers.IntegerField(allow_null=True)
    confirmations = serializers.IntegerField(help_text="As last seen by the confirmer; see chain_check for live.")
    anchored_at = serializers.DateTimeField(allow_null=True)


class ChainCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["verified", "not_verified", "not_anchored", "unavailable"])
    proof_valid = serializers.BooleanField(allow_null=True)
    root_anchored_at = serializers.DateTimeField(allow_null=True)
    block_number = serializers.IntegerField(allow_null=True)
    confirmations = serializers.IntegerField(allow_null=True)
    owner_matches = serializers.BooleanField(
        allow_null=True, help_text="After a confirmed transfer: whether the registry names the current owner."
    )
    checked_at = serializers.DateTimeField()
    detail = serializers.CharField()


class OwnershipEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["registered", "transfer"])
    from_ref = serializers.CharField(allow_null=True)
    to_ref = serializers.CharField()
    at = serializers.DateTimeField()
    state = serializers.CharField()
    transaction_hash = serializers.CharField(allow_null=True)
    block_number = serializers.IntegerField(allow_null=True)


class LineageRecordSerializer(RecordSerializer):
    parent_sha256 = serializers.SerializerMethodField()
    manifest = serializers.JSONField(
        help_text="What the record commits to: content_sha256 is the sha256 of its "
        "canonical JSON (sorted keys, no spaces, UTF-8)."
    )
    disclosure = serializers.JSONField(
        help_text="Shown, not committed: a public dataset's image hashes and "
        "class names ({} when the artist keeps the dataset private)."
    )

    def get_parent_sha256(self, record) -> str | None:
        return record.manifest.get("parent_sha256")


class LineageEntrySerializer(serializers.Serializer):
    record = LineageRecordSerializer()
    anchor = AnchorSerializer(allow_null=True)


class RecordVerificationSerializer(serializers.Serializer):
    record = RecordSerializer()
    anchor = AnchorSerializer(allow_null=True)
    chain_check = ChainCheckSerializer()
    owner_history = OwnershipEntrySerializer(many=True)
    lineage = LineageEntrySerializer(
        many=True,
        help_text="The record's ancestors, oldest first: dataset, then model version (each with its Merkle proof).",
    )
    licences = LineageEntrySerializer(many=True, help_text="Licence sales of the work, each a record of its own.")


class PerceptualMatchSerializer(serializers.Serializer):
    distance = serializers.IntegerField(
        help_text="Hamming distance between PDQ hashes (0-256; a match is <= 31, "
        "or <= 48 for images under 128 px a side)."
    )
    record = RecordSerializer()


class WatermarkMatchSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="The 48-bit key read from the invisible watermark (hex), as stored with the record it names "
        "(the key of a work's original and previews; for works registered before originals were marked, the first "
        "48 bits of the content's sha256)."
    )
    confidence = serializers.FloatField()
    record = RecordSerializer(allow_null=True)


class ContentCredentialsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["absent", "unreadable", "invalid", "untrusted", "trusted"],
        help_text="trusted: intact and signed by a certificate chaining to Atelier's trust anchor; untrusted: intact "
        "but signed by someone else; invalid: the file or the manifest was changed after signing.",
    )
    detail = serializers.CharField()
    trusted = serializers.BooleanField()
    validation_state = serializers.CharField(allow_null=True, help_text="The C2PA SDK's own verdict.")
    signer = serializers.JSONField(allow_null=True, help_text="The signing certificate: common_name, issuer, alg.")
    failures = serializers.JSONField(help_text="Validation failures (code, explanation), at most 20.")
    manifest_count = serializers.IntegerField()
    active_manifest = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    claim_generator = serializers.CharField(allow_null=True)
    actions = serializers.JSONField()
    author = serializers.JSONField()
    training_mining = serializers.JSONField(allow_null=True)
    atelier = serializers.JSONField(allow_null=True, help_text="The ai.atelier.provenance assertion as signed.")
    ingredients = serializers.JSONField()
    record = RecordSerializer(allow_null=True, help_text="The record the Atelier assertion names (trusted only).")
    issued_by_atelier = serializers.BooleanField(help_text="This exact file is a preview Atelier signed.")


class QuerySerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    sha256_without_manifest = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="sha256 of the file with its C2PA manifest removed (what a signed download was registered as).",
    )
    pdq = serializers.CharField()
    pdq_quality = serializers.IntegerField()


class VerificationSerializer(serializers.Serializer):
    query = QuerySerializer()
    match = RecordVerificationSerializer(allow_null=True)
    perceptual_matches = PerceptualMatchSerializer(many=True)
    perceptual_matching = serializers.ChoiceField(
        choices=["ok", "quality_too_low"],
        help_text="quality_too_low: the image has too little structure for a perceptual match.",
    )
    watermark = WatermarkMatchSerializer(allow_null=True, help_text="Read only when sha256 and PDQ find nothing.")
    content_credentials = ContentCredentialsSerializer(required=False, help_text="Uploads only.")
