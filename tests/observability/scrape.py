"""Read a /metrics page back the way Prometheus does."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    families: dict[str, list[tuple[str, dict[str, str], float]]]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        families = {
            family.name: [(s.name, s.labels, s.value) for s in family.samples]
            for family in text_string_to_metric_families(text)
        }
        return cls(families)

    def value(self, sample: str, **labels: str) -> float:
        """The value of one series (family name from the sample's name); KeyError if absent."""
        for family in self.families.values():
            for name, found, value in family:
                if name == sample and all(found.get(k) == v for k, v in labels.items()):
                    return value
        raise KeyError(f"{sample} {labels} not in the scrape")

    def value_or(self, sample: str, default: float, **labels: str) -> float:
        try:
            return self.value(sample, **labels)
        except KeyError:
            return default

    def names(self) -> set[str]:
        return set(self.families)
