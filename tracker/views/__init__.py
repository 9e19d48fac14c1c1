"""Views, one module per page family and audience: patient pages
(``patient``, ``offline``, ``reminders``) apart from staff pages. Views are
thin: a scoped object, a form handed to a service, a render."""
