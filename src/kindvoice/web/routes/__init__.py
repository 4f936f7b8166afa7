"""The web app's routes, one Flask blueprint per area (registered by ``web.app``):

- ``pages``: the pages that show forms and practices (practices, Build, Write, Timer,
  Course) and the Build form's length range (``/api/range``);
- ``jobs``: what starts a render (the Build, Timer and Course forms' posts, previews)
  and the job's page and state;
- ``sessions``: what the library holds (the session list, the player, files, previews,
  courses) and deleting a session;
- ``courses``: a course's days in the session player, and its files in the feed.

The voice field's routes are ``voices.bp``; the phone app's are ``pwa.bp``.
"""
