"""Booklets on the wire: customers and their attributes, books, pages (with a config per page
type), conditions, the resolve dry run, generation and the booklets made."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from paperworks.booklets.models import Operator, PageType
from paperworks.kit.schemas import ApiModel, NotBlank, PlainText, UtcDateTime

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NotBlank
]
Key = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    NotBlank,
    Field(description="An attribute's name, as templates use it: `{{ attr.revenue }}`"),
]
ExternalRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), PlainText]
YEARS = Field(ge=1900, le=2999)
QUARTERS = Field(ge=1, le=4, description="1-4, only with a year")
# Strict: in a JSON body `false` or "2024" is not a year (Pydantic's lax mode took them as 0 and
# 2024, which the schema's `integer` does not admit).
Year = Annotated[StrictInt, YEARS]
Quarter = Annotated[StrictInt, QUARTERS]
FileId = Annotated[str, Field(max_length=64, description="A file uploaded with `POST /files`")]


class Strict(ApiModel):
    """A body whose unknown fields are errors: a misspelt `fitToWidht` must not pass silently."""

    model_config = ConfigDict(extra="forbid")


class Period(Strict):
    year: Year | None = None
    quarter: Quarter | None = None

    @model_validator(mode="after")
    def _quarter_needs_year(self) -> Period:
        if self.quarter is not None and self.year is None:
            raise ValueError("a quarter needs a year")
        return self


# --- customers --------------------------------------------------------------------------------


class CustomerCreate(Strict):
    name: Name
    external_ref: ExternalRef | None = Field(
        default=None, description="Your own id for the customer; unique in the workspace"
    )


class CustomerUpdate(Strict):
    name: Name | None = None
    external_ref: ExternalRef | None = None


class CustomerOut(ApiModel):
    id: str
    name: str
    external_ref: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class AttributeIn(Period):
    key: Key
    value: Annotated[str, Field(max_length=4000), PlainText]


class AttributeOut(ApiModel):
    id: str
    key: str
    value: str
    year: int | None
    quarter: int | None


# --- books and pages --------------------------------------------------------------------------


class BookCreate(Strict):
    name: Name
    description: Annotated[str, Field(max_length=2000), PlainText] = ""


class BookUpdate(Strict):
    name: Name | None = None
    description: Annotated[str, Field(max_length=2000), PlainText] | None = None


PageRanges = Annotated[
    str,
    Field(max_length=200, description='Pages of the file, e.g. "1-3,5"; all when absent'),
]
Fields = Annotated[
    dict[str, Annotated[str, Field(max_length=2000), PlainText]],
    Field(
        description="Form field name → template over the customer: `{{ customer.name }}`, "
        "`{{ attr.revenue | number(2) }}`, `{{ period }}`"
    ),
]


class StaticConfig(Strict):
    pages: PageRanges | None = None


class FormConfig(Strict):
    fields: Fields = Field(default_factory=dict)
    flatten: bool = Field(default=True, description="Leave no live form in the booklet")


class ChoosableConfig(Strict):
    default_file_id: FileId | None = Field(
        default=None, description="Used when no rule matches; without it the page is skipped"
    )
    fields: Fields = Field(default_factory=dict)
    flatten: bool = True
    pages: PageRanges | None = None


class ExcelConfig(Strict):
    sheet: Annotated[str, Field(min_length=1, max_length=100)]
    range: (
        Annotated[
            str, Field(max_length=30, pattern=r"^\$?[A-Za-z]{1,3}\$?\d+:\$?[A-Za-z]{1,3}\$?\d+$")
        ]
        | None
    ) = None
    orientation: Literal["portrait", "landscape"] | None = None
    fit_to_width: bool = True


PAGE_CONFIGS: dict[PageType, type[Strict]] = {
    PageType.static: StaticConfig,
    PageType.pdf_form: FormConfig,
    PageType.choosable: ChoosableConfig,
    PageType.excel: ExcelConfig,
}


def page_config(type: PageType, config: dict[str, Any]) -> Strict:
    return PAGE_CONFIGS[type].model_validate(config)


def checked_page_config(type: PageType, config: dict[str, Any]) -> dict[str, Any]:
    """`config` as a `type` page keeps it, or a ValueError that names each problem."""
    try:
        parsed = page_config(type, config)
    except ValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"not a valid {type} config: {problems}") from None
    return parsed.model_dump(by_alias=True, exclude_none=True)


class _PageBody(Strict):
    config: dict[str, Any] | None
    # A new page always has a config (its type's defaults when none is sent); a change may leave
    # it out.
    _config_required: ClassVar[bool] = False

    @model_validator(mode="after")
    def _config_fits_type(self) -> Any:
        type_, config = getattr(self, "type", None), self.config
        if type_ is None or (config is None and not self._config_required):
            return self
        self.config = checked_page_config(type_, config or {})
        return self


class PageCreate(_PageBody):
    _config_required = True

    type: PageType
    title: Name
    position: (
        Annotated[StrictInt, Field(ge=1, description="1-based; at the end when absent")] | None
    ) = None
    file_id: FileId | None = None
    config: dict[str, Any] | None = Field(default_factory=dict)


class PageUpdate(_PageBody):
    """Only the fields sent change. A config is checked against the page's type."""

    type: PageType | None = None
    title: Name | None = None
    file_id: FileId | None = None
    config: dict[str, Any] | None = None


class PageOrder(Strict):
    page_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        description="Every page of the book, each once, in the new order"
    )


class PageOut(ApiModel):
    id: str
    book_id: str
    type: PageType
    position: int
    title: str
    file_id: str | None
    config: dict[str, Any]


class BookOut(ApiModel):
    id: str
    name: str
    description: str
    pages: list[PageOut]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ConditionCreate(Strict):
    attribute_key: Key
    operator: Operator
    attribute_value: (
        Annotated[str, Field(max_length=1000), PlainText]
        | list[Annotated[str, Field(max_length=1000), PlainText]]
        | None
    ) = Field(default=None, description="A string; a list for `in`; nothing for `exists`")
    target_file_id: FileId
    priority: StrictInt = Field(
        default=0, description="Rules are tried lowest first; ties oldest first"
    )

    @model_validator(mode="after")
    def _value_fits_operator(self) -> ConditionCreate:
        value = self.attribute_value
        if self.operator == Operator.exists:
            if value is not None:
                raise ValueError("`exists` takes no attributeValue")
        elif self.operator == Operator.in_:
            if isinstance(value, str):  # "a, b" is a list written short
                self.attribute_value = [part.strip() for part in value.split(",") if part.strip()]
            if not self.attribute_value:
                raise ValueError("`in` needs a list of values")
        elif not isinstance(value, str):
            raise ValueError(f"`{self.operator}` needs one value, a string")
        return self


class ConditionOut(ApiModel):
    id: str
    page_id: str
    attribute_key: str
    operator: Operator
    attribute_value: str | list[str] | None
    target_file_id: str | None
    priority: int


# --- resolve and generate ---------------------------------------------------------------------


class ResolveRequest(Period):
    customer_id: Annotated[str, Field(max_length=64)]


class GenerateRequest(ResolveRequest):
    spreadsheet_file_id: FileId | None = Field(
        default=None, description="An XLSX used by this booklet's excel pages instead of theirs"
    )


class BatchRequest(Period):
    customer_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=1000, description="Every customer of the workspace when absent"
    )


class RuleOut(ApiModel):
    condition_id: str
    attribute_key: str
    operator: Operator
    attribute_value: str | list[str] | None
    actual_value: str | None = Field(description="The customer's value the rule was tried on")


class ResolvedPageOut(ApiModel):
    page_id: str
    position: int
    title: str
    type: PageType
    source_file_id: str | None
    rule: RuleOut | None = Field(description="The condition that chose the source, if one did")
    skipped: bool
    reason: str = Field(description="Why this source, in words")
    form_values: dict[str, str] = Field(default_factory=dict)
    missing_attributes: list[str] = Field(default_factory=list)


class ResolutionOut(ApiModel):
    book_id: str
    customer_id: str
    year: int | None
    quarter: int | None
    pages: list[ResolvedPageOut]
    missing_attributes: list[str] = Field(description="Needed by some page, not set for the period")


class GenerateAccepted(ApiModel):
    job_id: str
    booklet_id: str


class BatchItem(ApiModel):
    customer_id: str
    job_id: str
    booklet_id: str


class BatchAccepted(ApiModel):
    batch_id: str
    jobs: list[BatchItem]


class ResolutionEntry(ApiModel):
    page_id: str
    type: PageType
    source_file_id: str | None
    rule: RuleOut | None = None
    skipped: bool = False


BookletStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class BookletOut(ApiModel):
    id: str
    book_id: str
    customer_id: str
    year: int | None
    quarter: int | None
    status: BookletStatus
    job_id: str
    file_id: str | None
    download_url: str | None
    page_count: int | None
    error: str | None = Field(default=None, description="Why it failed, when it did")
    resolution: list[ResolutionEntry]
    created_at: UtcDateTime


class BatchOut(ApiModel):
    id: str
    book_id: str
    year: int | None
    quarter: int | None
    total: int
    succeeded: int
    failed: int
    running: int
    queued: int
    download_url: str | None = Field(description="A ZIP of the finished booklets, once all ended")
    booklets: list[BookletOut]
    created_at: UtcDateTime


class FormFieldOut(ApiModel):
    name: str = Field(description="The full name a page's `config.fields` uses")
    type: Literal["text", "checkbox", "radio", "choice", "signature", "button"]
    options: list[str] = Field(description="What a checkbox, radio group or choice accepts")
    value: str | None
    page: int = Field(description="1-based page of its first widget")
    multiline: bool
    required: bool
