"""`api/v1/admin/courses`: courses (a hub group, a shared folder, material from git) for
hub admins."""

from ..courses import MAX_MEMBERS, members_of, parse_roster
from ..errors import APIError
from .base import APIHandler

_NAMES = {"type": "array", "items": {"type": "string"}, "maxItems": MAX_MEMBERS}
COURSE_SCHEMA = {
    "type": "object",
    "properties": {
        "group": {"type": "string", "description": "The hub group, and the course's name"},
        "instructors": _NAMES,
        "students": _NAMES,
        "folder": {"type": "string", "description": "The shared folder on the lab's machine"},
        "link_name": {"type": "string", "description": "course-<group>, in each member's home"},
        "repository": {"type": "string", "nullable": True},
        "branch": {"type": "string", "nullable": True},
        "material_link": {
            "type": "string",
            "nullable": True,
            "description": "The nbgitpuller link that pulls the repository into a home",
        },
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "updated_by": {"type": "string"},
        "created_users": {**_NAMES, "description": "Hub users this request created"},
    },
}
COURSE_BODY = {
    "type": "object",
    "properties": {
        "instructors": _NAMES,
        "students": _NAMES,
        "repository": {"type": "string", "description": "A git URL for nbgitpuller links"},
        "branch": {"type": "string"},
    },
}
MEMBERS_BODY = {
    "type": "object",
    "description": "JSON, or a text/csv roster: `user,role` lines (role instructor or "
    "student, the default), an optional header line, blank lines ignored.",
    "properties": {"instructors": _NAMES, "students": _NAMES},
}


class CoursesHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "List courses",
            "responses": {
                "200": {
                    "description": "Every course, by name",
                    "schema": {"type": "array", "items": COURSE_SCHEMA},
                }
            },
        }
    }

    admin_only = True

    def get(self):
        courses = self.service.courses
        self.write_json([courses.json(course) for course in courses.every()])


class CourseHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "A course",
            "responses": {
                "200": {"description": "The course", "schema": COURSE_SCHEMA},
                "404": {"description": "No such course"},
            },
        },
        "put": {
            "summary": "Create or replace a course",
            "description": "The hub group of that name gets exactly these members (hub "
            "users that do not exist are made); each has the shared folder as "
            "~/course-<group>, writable for instructors, read-only for students. Someone "
            "in both lists is an instructor.",
            "request": COURSE_BODY,
            "responses": {
                "200": {"description": "The course", "schema": COURSE_SCHEMA},
                "400": {"description": "Bad name, member list or repository; nothing changed"},
            },
        },
        "delete": {
            "summary": "Remove a course",
            "description": "Removes the record, the hub group and the members' links; the "
            "folder's files stay (a course made again under that name finds them).",
            "responses": {
                "204": {"description": "Removed"},
                "404": {"description": "No such course"},
            },
        },
    }

    admin_only = True

    def get(self, group):
        courses = self.service.courses
        self.write_json(courses.json(courses.get(group)))

    async def put(self, group):
        courses = self.service.courses
        course, created = await courses.put(group, self.get_json_body(), self.user["name"])
        self.write_json(courses.json(course, created))

    async def delete(self, group):
        await self.service.courses.delete(group)
        self.set_status(204)
        self.finish()


class CourseMembersHandler(APIHandler):
    openapi = {
        "post": {
            "summary": "Add members to a course",
            "description": "From a CSV roster (Content-Type text/csv) or JSON lists; "
            "existing members stay, an instructor stays one.",
            "request": MEMBERS_BODY,
            "responses": {
                "200": {"description": "The course", "schema": COURSE_SCHEMA},
                "400": {"description": "Bad roster line or user name; nothing changed"},
                "404": {"description": "No such course"},
            },
        }
    }

    admin_only = True

    async def post(self, group):
        courses = self.service.courses
        courses.get(group)  # a 404 before the body is looked at
        kind = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "text/csv":
            instructors, students = parse_roster(self.request.body)
        else:
            body = self.get_json_body()
            unknown = set(body) - {"instructors", "students"}
            if unknown:
                raise APIError(
                    400,
                    "invalid_request",
                    f"Unknown field(s): {', '.join(sorted(unknown))}; send instructors "
                    "and students.",
                )
            instructors, students = members_of(body)
        course, created = await courses.add(group, instructors, students, self.user["name"])
        self.write_json(courses.json(course, created))


default_handlers = [
    ("api/v1/admin/courses", CoursesHandler),
    ("api/v1/admin/courses/{group}", CourseHandler),
    ("api/v1/admin/courses/{group}/members", CourseMembersHandler),
]
