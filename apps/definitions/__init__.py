"""Process definitions: BPMN files, their validation and (later) their deployed versions."""
