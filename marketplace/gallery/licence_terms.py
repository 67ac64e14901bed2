"""What each licence type lets its holder do, in plain words: the one source for the artwork page, the API's
listings (`terms`) and the licence documents. Changing a term here changes it everywhere at once; the
`version` goes into every licence document so a holder can tell which wording they bought under.

The rules the code enforces (commercial and exclusive need the artist's plan to allow them; an exclusive sale
moves the work's ownership on chain and closes the other listings; a fulfilled exclusive is not refundable)
are stated here as a person reads them, and tests check that the page shows them.
"""

from dataclasses import dataclass

from marketplace.gallery.models import LicenceType

TERMS_VERSION = "2026-12-01"


@dataclass(frozen=True)
class LicenceTerms:
    licence_type: str
    name: str
    summary: str
    permits: tuple[str, ...]
    forbids: tuple[str, ...]
    notes: tuple[str, ...] = ()
    version: str = TERMS_VERSION
    # what a delivered file's C2PA training-and-mining assertion says: allowed | notAllowed | constrained
    training_mining: str = "notAllowed"
    training_constraint: str = ""

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "permits": list(self.permits),
            "forbids": list(self.forbids),
            "notes": list(self.notes),
            "version": self.version,
        }


_COMMON_FORBIDS = (
    "Claiming you made the work, or removing the artist's name where credit is given.",
    "Reselling or sublicensing the file itself, or offering it for download.",
    "Using the work to train or fine-tune an AI model.",
)

TERMS: dict[str, LicenceTerms] = {
    LicenceType.PERSONAL: LicenceTerms(
        licence_type=LicenceType.PERSONAL,
        name="Personal licence",
        summary="Enjoy the work yourself: print it, frame it, use it as a wallpaper or share it with credit, "
        "but not to make money.",
        permits=(
            "Download the full-resolution file and keep it for as long as you like.",
            "Print it for your home or as a gift (not for sale).",
            "Use it on your own devices and non-commercial social media, crediting the artist.",
        ),
        forbids=(
            "Any commercial use: products for sale, advertising, client work, monetised channels.",
            *_COMMON_FORBIDS,
        ),
        notes=("Other people can buy the same licence; the artist keeps ownership of the work.",),
    ),
    LicenceType.COMMERCIAL: LicenceTerms(
        licence_type=LicenceType.COMMERCIAL,
        name="Commercial licence",
        summary="Use the work in your business: marketing, products, client projects and publications, "
        "worldwide and without a time limit.",
        permits=(
            "Everything the personal licence allows.",
            "Advertising, packaging, websites, apps, books, games and other products you sell.",
            "Client work: deliver it inside a project you make for a client.",
            "Print-on-demand and merchandise, in any quantity.",
        ),
        forbids=(
            "Selling the work as a standalone image (a poster or stock file that is only this work).",
            "Registering it as a trademark or logo.",
            *_COMMON_FORBIDS,
        ),
        notes=(
            "Not exclusive: the artist may license the same work to others.",
            "Offered only by artists whose plan includes commercial licences.",
        ),
    ),
    LicenceType.EXCLUSIVE: LicenceTerms(
        licence_type=LicenceType.EXCLUSIVE,
        name="Exclusive licence",
        summary="Own the work outright: full commercial rights, and nobody else can buy it after you.",
        permits=(
            "Everything the commercial licence allows, including standalone prints and trademarks.",
            "Exclusive use: the work leaves the marketplace and no further licences are sold.",
            "Ownership of the work's provenance record moves to you, on chain.",
        ),
        forbids=("Using the work to train or fine-tune an AI model, unless the artist agrees in writing.",),
        training_mining="constrained",
        training_constraint="Only with the artist's written agreement.",
        notes=(
            "Licences sold before yours stay valid for their holders.",
            "Not refundable once fulfilled: the ownership transfer is recorded on chain.",
            "Offered only by artists whose plan includes commercial licences.",
        ),
    ),
}


def terms_for(licence_type: str) -> LicenceTerms:
    return TERMS[LicenceType(licence_type)]
