"""Importing the files partners already have. Plain Python: no Textual here.

Entry points: :func:`adopt_tui.importers.api.plan_import` (detect and check,
writes nothing) and :func:`adopt_tui.importers.api.run_import` (one
transaction); ``adopt-tui import`` and the TUI Import screen use them.

==============================  =====================================  =====================
format (code)                   module                                 customer
==============================  =====================================  =====================
graph_active_users              graph_reports (Office 365 active        --customer
                                user detail)
graph_email_activity,           graph_reports (activity user detail,   --customer
graph_onedrive_activity,        one workload each; OneDrive counts
graph_sharepoint_activity,      as SharePoint; Teams in its older
graph_teams_activity,           12-column and current forms)
graph_yammer_activity,
graph_m365_apps
graph_subscribed_skus,          graph_licenses (JSON)                  --customer
graph_company_subscriptions
pc_subscriptions                partner_center (JSON; own scope)       --customer
pc_customers                    partner_center (JSON)                  names its customers
insights_o365_usage,            insights (tab-separated)               names its customers
insights_dynamics_usage
bundle                          bundle (our CSV bundle, a directory)   names its customers
==============================  =====================================  =====================

Detection (:mod:`.detect`) reads the header line or the JSON keys; columns
are mapped by name. :mod:`.textio` streams files (Arrow's CSV reader for
clean files, the csv module, which names lines, for anything irregular);
:mod:`.products` matches product names (``Assigned Products``, offers) to
SKUs and explains the synthetic ``GRAPH:<workload>`` products used when a
report has license flags but names no product.
"""
