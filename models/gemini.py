"""Google Gemini API wire shapes (``generateContent``, ``countTokens``, models): what the door validates.

Field names are the REST API's camelCase (https://ai.google.dev/api/generate-content); like Google's own
JSON parsing (proto3 JSON accepts a field's original name too), each is also read in snake_case, which
``google-genai`` sends for some nested fields (``thinking_budget``, ``parameters_json_schema``). Every
object accepts fields it does not name: the SDKs send extras (and newer fields) that the door ignores.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_snake


def _either(name: str) -> AliasChoices:
    return AliasChoices(name, to_snake(name))


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", alias_generator=AliasGenerator(validation_alias=_either))


class Blob(_Open):
    mimeType: str
    data: str


class FileData(_Open):
    mimeType: str | None = None
    fileUri: str


class FunctionCall(_Open):
    id: str | None = None
    name: str
    args: dict[str, Any] | None = None


class FunctionResponse(_Open):
    id: str | None = None
    name: str
    response: dict[str, Any] | None = None


class Part(_Open):
    text: str | None = None
    thought: bool | None = None
    thoughtSignature: str | None = None
    inlineData: Blob | None = None
    fileData: FileData | None = None
    functionCall: FunctionCall | None = None
    functionResponse: FunctionResponse | None = None


class Content(_Open):
    role: Literal["user", "model", "function", "tool"] | None = None
    parts: list[Part] = []


class FunctionDeclaration(_Open):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parametersJsonSchema: Any = None


class Tool(_Open):
    functionDeclarations: list[FunctionDeclaration] | None = None


class FunctionCallingConfig(_Open):
    mode: Literal["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"] | None = None
    allowedFunctionNames: list[str] | None = None


class ToolConfig(_Open):
    functionCallingConfig: FunctionCallingConfig | None = None


class ThinkingConfig(_Open):
    includeThoughts: bool | None = None
    thinkingBudget: int | None = None
    thinkingLevel: str | None = None


class GenerationConfig(_Open):
    temperature: float | None = None
    topP: float | None = None
    topK: int | None = None
    maxOutputTokens: int | None = None
    stopSequences: list[str] | None = None
    candidateCount: int | None = None
    seed: int | None = None
    responseMimeType: str | None = None
    responseSchema: dict[str, Any] | None = None
    responseJsonSchema: Any = None
    thinkingConfig: ThinkingConfig | None = None


class GenerateContentRequest(_Open):
    contents: list[Content]
    systemInstruction: Content | str | None = None
    tools: list[Tool] | None = None
    toolConfig: ToolConfig | None = None
    generationConfig: GenerationConfig | None = None
    safetySettings: list[dict[str, Any]] | None = None
    cachedContent: str | None = None


class CountTokensRequest(_Open):
    contents: list[Content] | None = None
    generateContentRequest: GenerateContentRequest | None = None


class CountTokensResponse(BaseModel):
    totalTokens: int


class Candidate(BaseModel):
    content: Content
    finishReason: str | None = None
    index: int = 0


class UsageMetadata(BaseModel):
    promptTokenCount: int = 0
    candidatesTokenCount: int = 0
    totalTokenCount: int = 0
    thoughtsTokenCount: int | None = None
    cachedContentTokenCount: int | None = None


class GenerateContentResponse(BaseModel):
    candidates: list[Candidate]
    usageMetadata: UsageMetadata
    modelVersion: str
    responseId: str


class GeminiModel(BaseModel):
    name: str
    baseModelId: str
    version: str
    displayName: str
    description: str
    inputTokenLimit: int
    outputTokenLimit: int
    supportedGenerationMethods: list[str]


class ListModelsResponse(BaseModel):
    models: list[GeminiModel]


class GeminiErrorBody(BaseModel):
    code: int
    message: str
    status: str


class GeminiErrorResponse(BaseModel):
    error: GeminiErrorBody
