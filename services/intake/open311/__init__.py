"""Intake's Open311 GeoReport v2 front door (http://wiki.open311.org/GeoReport_v2).

* `documents` — the documents as data (services, definitions, requests, tokens, discovery, errors)
  and the spec's datetime form;
* `rendering` — those documents as JSON and XML;
* `forms` — reading what clients send: parameters, ``attribute[…]`` fields, a `POST requests` form
  into a draft, a `GET requests` query into a search;
* `attribute_values` — checking a complaint's attribute values against its category's definitions;
* `api` — the `/open311/v2/` endpoints.

Import from the module itself: `forms` and `api` build on intake's filing, which itself uses
`attribute_values`, so this package re-exports nothing (that would import them in a cycle).
"""
